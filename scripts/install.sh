#!/usr/bin/env bash
# Builds terraform-provider-immutable and installs it into the implied local mirror directory that
# Terraform (>= 0.13) and OpenTofu both search without any CLI configuration:
#
#   ~/.terraform.d/plugins/<host>/immutable-infra/immutable/<version>/<os>_<arch>/
#
# under two hosts, because the short source "immutable-infra/immutable" means
# registry.terraform.io/immutable-infra/immutable to Terraform and
# registry.opentofu.org/immutable-infra/immutable to OpenTofu. Afterwards `terraform init` (or
# `tofu init`) in any configuration that requires the provider installs it from there.
#
# Usage: scripts/install.sh [--debug] [--binary PATH] [--plugin-dir DIR]
#   --debug           build the debug profile (fast to build, slow and large; for trying it out)
#   --binary PATH     install this already-built binary instead of building
#   --plugin-dir DIR  install under DIR instead of ${TF_PLUGIN_DIR:-$HOME/.terraform.d/plugins}
#
# The version is the one the binary reports (`terraform-provider-immutable --version`), which is
# the workspace version in Cargo.toml.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly namespace="immutable-infra"
readonly type="immutable"
readonly hosts=("registry.terraform.io" "registry.opentofu.org")

usage() {
  sed -n '/^# Usage:/,/^# The version/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 2
}

profile="release"
binary=""
plugin_dir="${TF_PLUGIN_DIR:-${HOME:?HOME is not set}/.terraform.d/plugins}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) profile="debug" ;;
    --binary)
      [[ $# -ge 2 ]] || die "--binary needs a path"
      binary="$2"
      shift
      ;;
    --plugin-dir)
      [[ $# -ge 2 ]] || die "--plugin-dir needs a directory"
      plugin_dir="$2"
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      die "unknown argument: $1"
      ;;
  esac
  shift
done

# shellcheck source=scripts/lib/platform.sh
source "$repo_root/scripts/lib/platform.sh"

if [[ -z "$binary" ]]; then
  if [[ "$profile" == "release" ]]; then
    cargo build --manifest-path "$repo_root/Cargo.toml" --release -p terraform-provider-immutable
  else
    cargo build --manifest-path "$repo_root/Cargo.toml" -p terraform-provider-immutable
  fi
  binary="${CARGO_TARGET_DIR:-$repo_root/target}/$profile/terraform-provider-immutable"
fi
[[ -x "$binary" ]] || die "$binary is not an executable file"

# "terraform-provider-immutable 0.1.0" -> "0.1.0"
version=$("$binary" --version | awk '{ print $2 }')
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "$binary --version printed no semantic version"
platform=$(terraform_platform) || die "no provider build for this machine"

for host in "${hosts[@]}"; do
  dir="$plugin_dir/$host/$namespace/$type/$version/$platform"
  mkdir -p "$dir"
  # Terraform runs whichever terraform-provider-immutable* it finds: leave exactly one.
  rm -f "$dir"/terraform-provider-immutable*
  # The registry's file name; copied (not linked) so a later `cargo build` cannot change it.
  cp "$binary" "$dir/terraform-provider-immutable_v$version"
  chmod 0755 "$dir/terraform-provider-immutable_v$version"
  printf 'installed %s\n' "$dir/terraform-provider-immutable_v$version"
done

if [[ "$plugin_dir" != "$HOME/.terraform.d/plugins" ]]; then
  # Only ~/.terraform.d/plugins (and the XDG data dirs) are searched without configuration.
  cat <<EOF

$plugin_dir is not searched by default: add it to the CLI configuration (~/.terraformrc):

  provider_installation {
    filesystem_mirror {
      path    = "$plugin_dir"
      include = ["registry.terraform.io/immutable-infra/immutable", "registry.opentofu.org/immutable-infra/immutable"]
    }
    direct {
      exclude = ["registry.terraform.io/immutable-infra/immutable", "registry.opentofu.org/immutable-infra/immutable"]
    }
  }
EOF
fi

cat <<EOF

terraform-provider-immutable v$version ($platform) is installed; from ~/.terraform.d/plugins
Terraform and OpenTofu need no CLI configuration.
Use it from any configuration:

  terraform {
    required_providers {
      immutable = { source = "$namespace/$type", version = "~> $version" }
    }
  }

then run \`terraform init\` (or \`tofu init\`). A project whose .terraform.lock.hcl recorded an
earlier build of the same version rejects this one (checksum mismatch): delete the provider's
entry from that lock file and run \`terraform init\` again.
EOF
