"""The checkov side of the configuration-mode benchmark: IMM005 (ssh-open-to-world) as a
checkov custom check over HCL (`checkov -d DIR --framework terraform`).

Fails an `aws_security_group` with an `ingress` block, or an `aws_security_group_rule` of
type `ingress`, that opens TCP port 22 (a port range containing it, or protocol "-1"/"all")
to `0.0.0.0/0` or `::/0` written literally: what immutable-lint's IMM005 reports in
configuration mode on the same files (it also reads firewalls of other clouds and runs its
other rules). Both tools report a `count`/`for_each` block once.
Run: checkov -d DIR --framework terraform --external-checks-dir bench/checkov --check CKV_IMM_005
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

WORLD = ("0.0.0.0/0", "::/0")
SSH = 22


def _value(conf, key):
    """checkov wraps every HCL attribute value in a one-element list."""
    value = conf.get(key)
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _port(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _opens_ssh_to_world(rule):
    protocol = str(_value(rule, "protocol") or "").lower()
    if protocol not in ("tcp", "6", "-1", "all"):
        return False
    if protocol not in ("-1", "all"):
        low = _port(_value(rule, "from_port"), None)
        high = _port(_value(rule, "to_port"), None)
        if low is None or high is None or not low <= SSH <= high:
            return False
    for key in ("cidr_blocks", "ipv6_cidr_blocks"):
        blocks = _value(rule, key)
        if isinstance(blocks, str):
            blocks = [blocks]
        if any(block in WORLD for block in blocks or []):
            return True
    return False


class SshOpenToWorldHcl(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="SSH must not be open to the world",
            id="CKV_IMM_005",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_security_group", "aws_security_group_rule"],
        )

    def scan_resource_conf(self, conf):
        if "ingress" in conf:
            self.evaluated_keys = ["ingress"]
            rules = conf.get("ingress") or []
            if any(isinstance(rule, dict) and _opens_ssh_to_world(rule) for rule in rules):
                return CheckResult.FAILED
            return CheckResult.PASSED
        if _value(conf, "type") == "ingress":
            self.evaluated_keys = ["type", "from_port", "to_port", "protocol", "cidr_blocks"]
            if _opens_ssh_to_world(conf):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = SshOpenToWorldHcl()
