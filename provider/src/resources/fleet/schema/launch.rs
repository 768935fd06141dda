//! The launch settings baked into each generation's launch template beyond the image, type
//! and network: disks, instance metadata, public addressing, monitoring, EBS optimisation
//! and CPU credits. Every one of them rolls out a new generation through the gate.

use tfplugin_cty::Value;

use crate::framework::value::int;
use crate::framework::{Attribute, Block};

/// The attributes of a `block_device_mapping` block.
pub mod device {
    pub const DEVICE_NAME: &str = "device_name";
    pub const VOLUME_SIZE: &str = "volume_size";
    pub const VOLUME_TYPE: &str = "volume_type";
    pub const IOPS: &str = "iops";
    pub const THROUGHPUT: &str = "throughput";
    pub const ENCRYPTED: &str = "encrypted";
    pub const KMS_KEY_ID: &str = "kms_key_id";
    pub const DELETE_ON_TERMINATION: &str = "delete_on_termination";
}

/// The attributes of the `metadata_options` block.
pub mod metadata {
    pub const HTTP_TOKENS: &str = "http_tokens";
    pub const HTTP_PUT_RESPONSE_HOP_LIMIT: &str = "http_put_response_hop_limit";
    pub const INSTANCE_METADATA_TAGS: &str = "instance_metadata_tags";
}

/// The `block_device_mapping` blocks (a set, one per device).
pub fn block_device_mapping() -> Block {
    use device::{
        DELETE_ON_TERMINATION, DEVICE_NAME, ENCRYPTED, IOPS, KMS_KEY_ID, THROUGHPUT, VOLUME_SIZE,
        VOLUME_TYPE,
    };
    Block::new(
        "An EBS volume of every instance, one block per device. The root volume is the \
         block whose `device_name` is the image's root device (often `/dev/xvda`). Volumes \
         are encrypted by default. A change rolls out a new generation.",
    )
    .attribute(
        Attribute::string(DEVICE_NAME)
            .required()
            .requires_replace()
            .describe("Device name, such as `/dev/xvda` or `/dev/sdf`."),
    )
    .attribute(
        Attribute::number(VOLUME_SIZE)
            .optional()
            .requires_replace()
            .describe(
                "Size in GiB: 1–16384 (`io1`/`io2` 4–16384 and 4–65536, `st1`/`sc1` \
                 125–16384). Unset: the size of the image's snapshot.",
            ),
    )
    .attribute(
        Attribute::string(VOLUME_TYPE)
            .optional()
            .computed()
            .requires_replace()
            .describe("`gp3` (the default), `gp2`, `io1`, `io2`, `st1`, `sc1` or `standard`."),
    )
    .attribute(
        Attribute::number(IOPS)
            .optional()
            .requires_replace()
            .describe(
                "Provisioned IOPS, for `gp3` (3000–16000), `io1` (100–64000) and `io2` \
                 (100–256000) only. Unset: `gp3`'s baseline of 3000.",
            ),
    )
    .attribute(
        Attribute::number(THROUGHPUT)
            .optional()
            .requires_replace()
            .describe("Throughput in MiB/s, for `gp3` only: 125–1000. Unset: 125."),
    )
    .attribute(
        Attribute::bool(ENCRYPTED)
            .optional()
            .computed()
            .requires_replace()
            .describe(
                "Whether the volume is encrypted. Default `true`; set `false` only for an \
                 image whose snapshot is unencrypted and must stay so.",
            ),
    )
    .attribute(
        Attribute::string(KMS_KEY_ID)
            .optional()
            .requires_replace()
            .describe(
                "KMS key (ID, alias ARN or key ARN) that encrypts the volume; needs \
                 `encrypted` true. Unset: the account's default EBS key.",
            ),
    )
    .attribute(
        Attribute::bool(DELETE_ON_TERMINATION)
            .optional()
            .computed()
            .requires_replace()
            .describe(
                "Whether the volume goes with its instance. Default `true`: an immutable \
                 server keeps nothing worth a volume of its own.",
            ),
    )
}

/// The `metadata_options` block.
pub fn metadata_options() -> Block {
    use metadata::{HTTP_PUT_RESPONSE_HOP_LIMIT, HTTP_TOKENS, INSTANCE_METADATA_TAGS};
    Block::new(
        "How instances reach the instance metadata service. Without the block (or with \
         its defaults) the launch template requires IMDSv2 session tokens with a hop limit \
         of 1, so containers and SSRF bugs on the instance cannot read its credentials. A \
         change rolls out a new generation.",
    )
    .attribute(
        Attribute::string(HTTP_TOKENS)
            .default(Value::string("required"))
            .requires_replace()
            .describe(
                "`required` (IMDSv2 only) or `optional` (also IMDSv1, for software that \
                 cannot use session tokens yet).",
            ),
    )
    .attribute(
        Attribute::number(HTTP_PUT_RESPONSE_HOP_LIMIT)
            .default(int(1))
            .requires_replace()
            .describe(
                "How many network hops a metadata token may travel: 1–64. Containers that \
                 use the instance's role through a bridge network need 2.",
            ),
    )
    .attribute(
        Attribute::string(INSTANCE_METADATA_TAGS)
            .default(Value::string("disabled"))
            .requires_replace()
            .describe(
                "`enabled` makes the instance's tags readable from the metadata service, \
                 `disabled` does not.",
            ),
    )
}

pub fn associate_public_ip_address() -> Attribute {
    Attribute::bool(super::ASSOCIATE_PUBLIC_IP_ADDRESS)
        .optional()
        .requires_replace()
        .describe(
            "Whether instances get a public IPv4 address. Unset: the subnet's setting. \
             When set, the security groups go on the instances' primary network interface.",
        )
}

pub fn monitoring() -> Attribute {
    Attribute::bool(super::MONITORING)
        .optional()
        .requires_replace()
        .describe(
            "Detailed (one-minute) CloudWatch monitoring of the instances. Unset or `false`: \
             basic five-minute monitoring.",
        )
}

pub fn ebs_optimized() -> Attribute {
    Attribute::bool(super::EBS_OPTIMIZED)
        .optional()
        .requires_replace()
        .describe(
            "Whether instances are EBS-optimized. Unset: the instance type's default (current \
             generation types are EBS-optimized anyway).",
        )
}

pub fn credit_specification() -> Attribute {
    Attribute::string(super::CREDIT_SPECIFICATION)
        .optional()
        .requires_replace()
        .describe(
            "CPU credits of burstable instance types (`t2`, `t3`, `t3a`, `t4g`): `standard` \
             or `unlimited`. Unset: the type's default.",
        )
}
