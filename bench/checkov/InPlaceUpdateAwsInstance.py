"""The checkov side of the immutable-lint benchmark: IMM001's core as a checkov custom check.

Fails an `aws_instance` whose planned actions include `update` (an in-place change), which is
the work immutable-lint's IMM001 does on the same plan (it additionally diffs the attributes).
Run: checkov -f plan.json --framework terraform_plan --external-checks-dir bench/checkov
        --check CKV_IMM_001
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# How checkov's plan parser exposes a resource change's `actions` (checkov/terraform/plan_parser.py).
CHANGE_ACTIONS = "__change_actions__"


class InPlaceUpdateAwsInstance(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="aws_instance must not be updated in place",
            id="CKV_IMM_001",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_instance"],
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = [CHANGE_ACTIONS]
        actions = conf.get(CHANGE_ACTIONS) or []
        if "update" in actions:
            return CheckResult.FAILED
        return CheckResult.PASSED


check = InPlaceUpdateAwsInstance()
