#!/usr/bin/env bash
# Release artifacts of terraform-provider-immutable, in the layouts the tools consume:
#
#   OUT/terraform-provider-immutable_<v>_<os>_<arch>.zip   the binary terraform-provider-immutable_v<v> (0755)
#   OUT/terraform-provider-immutable_<v>_manifest.json     {"version":1,"metadata":{"protocol_versions":["5.0"]}}
#   OUT/terraform-provider-immutable_<v>_SHA256SUMS        sha256 of every zip and the manifest (registry naming)
#   OUT/SHA256SUMS                                         the same, over every version in OUT
#   OUT/mirror/<host>/immutable-infra/immutable/           the provider network mirror protocol as static
#       index.json  <v>.json  <zip>                        files, for registry.terraform.io and registry.opentofu.org
#
# With a signing key (--gpg-key or $IMMUTABLE_GPG_KEY), also:
#
#   OUT/terraform-provider-immutable_<v>_SHA256SUMS.sig   binary detached GPG signature of the sums
#   OUT/terraform-provider-immutable_<v>_signing_key.asc  the public key, ASCII-armored
#   OUT/registry/                                         a provider registry as static files:
#       .well-known/terraform.json                        service discovery: providers.v1
#       v1/providers/immutable-infra/immutable/versions   the provider registry protocol's documents
#       v1/providers/immutable-infra/immutable/<v>/download/<os>/<arch>
#       v1/providers/immutable-infra/immutable/<v>/<zip, SHA256SUMS, .sig>
#
# Serve OUT/mirror/ from any static HTTPS server and point the CLI configuration at it:
#   provider_installation { network_mirror { url = "https://files.example.internal/mirror/" } }
# Serve OUT/registry/ at the root of an HTTPS host and use that host in the source address
# (files.example.internal/immutable-infra/immutable), or map the ordinary hostname onto it in the
# CLI configuration: host "registry.terraform.io" { services = { "providers.v1" = "https://…/v1/providers/" } }.
# `terraform init` then checks the signature and reports the provider as self-signed.
#
# Run once per target platform into the same OUT to build a multi-platform release: the sums and
# the mirror's and registry's JSON documents are merged, not overwritten, and each signed run
# signs the merged sums again.
#
# Usage: scripts/package.sh [--version V] [--out DIR] [--target OS_ARCH] [--binary PATH] [--gpg-key KEY]
#   --version V       release version (default: the workspace version in Cargo.toml)
#   --out DIR         output directory (default: target/dist)
#   --target OS_ARCH  linux_amd64, linux_arm64, darwin_amd64, darwin_arm64, windows_amd64
#                     (default: this machine; another target needs its Rust target installed)
#   --binary PATH     package this already-built binary (its platform is --target) instead of
#                     building a release
#   --gpg-key KEY     sign with this key (fingerprint, key ID or user ID in gpg's keyring, which
#                     $GNUPGHOME selects; default $IMMUTABLE_GPG_KEY, unset: no signature). It must
#                     be an RSA key: the registries and Terraform's OpenPGP code accept no ECC keys.
#                     A passphrase is read from $IMMUTABLE_GPG_PASSPHRASE when set.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

die() {
  printf 'package.sh: %s\n' "$*" >&2
  exit 2
}

# shellcheck source=scripts/lib/platform.sh
source "$repo_root/scripts/lib/platform.sh"

version=""
out="$repo_root/target/dist"
target=""
binary=""
gpg_key="${IMMUTABLE_GPG_KEY:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version | --out | --target | --binary | --gpg-key)
      [[ $# -ge 2 ]] || die "$1 needs a value"
      case "$1" in
        --version) version="$2" ;;
        --out) out="$2" ;;
        --target) target="$2" ;;
        --binary) binary="$2" ;;
        --gpg-key) gpg_key="$2" ;;
      esac
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

if [[ -z "$version" ]]; then
  # The `version = "…"` line of [workspace.package].
  version=$(awk '
    /^\[/ { section = $0 }
    section == "[workspace.package]" && $1 == "version" { gsub(/"/, "", $3); print $3; exit }
  ' "$repo_root/Cargo.toml")
fi
# Semantic version, optionally with a pre-release (Terraform's version constraints accept both).
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  die "version \"$version\" is not a semantic version (MAJOR.MINOR.PATCH[-PRERELEASE])"

if [[ -z "$target" ]]; then
  target=$(terraform_platform) || die "pass --target"
  rust_target=""
else
  case "$target" in
    linux_amd64) rust_target="x86_64-unknown-linux-gnu" ;;
    linux_arm64) rust_target="aarch64-unknown-linux-gnu" ;;
    darwin_amd64) rust_target="x86_64-apple-darwin" ;;
    darwin_arm64) rust_target="aarch64-apple-darwin" ;;
    windows_amd64) rust_target="x86_64-pc-windows-msvc" ;;
    *) die "unknown --target $target (expected e.g. linux_amd64)" ;;
  esac
fi
exe_suffix=""
[[ "$target" == windows_* ]] && exe_suffix=".exe"

# The signing key, checked before anything is built: its fingerprint, and RSA (public-key
# algorithm 1 in gpg's --with-colons output).
fingerprint=""
if [[ -n "$gpg_key" ]]; then
  command -v gpg >/dev/null 2>&1 || die "--gpg-key needs gpg on PATH"
  key_info=$(gpg --batch --with-colons --fixed-list-mode --list-secret-keys -- "$gpg_key" 2>/dev/null) ||
    die "no secret key \"$gpg_key\" in gpg's keyring${GNUPGHOME:+ (GNUPGHOME=$GNUPGHOME)}"
  [[ $(awk -F: '$1 == "sec" { n++ } END { print n + 0 }' <<<"$key_info") == 1 ]] ||
    die "\"$gpg_key\" matches more than one secret key: pass its fingerprint"
  algorithm=$(awk -F: '$1 == "sec" { print $4; exit }' <<<"$key_info")
  capabilities=$(awk -F: '$1 == "sec" { print $12; exit }' <<<"$key_info")
  fingerprint=$(awk -F: '$1 == "fpr" { print $10; exit }' <<<"$key_info")
  [[ "$algorithm" == 1 ]] ||
    die "key $fingerprint is not an RSA key (gpg algorithm $algorithm): the registries and Terraform accept RSA (not ECC) signing keys"
  [[ "$capabilities" == *[Ss]* ]] || die "key $fingerprint cannot sign (capabilities: $capabilities)"
fi

if [[ -z "$binary" ]]; then
  target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
  if [[ -n "$rust_target" ]]; then
    cargo build --manifest-path "$repo_root/Cargo.toml" --release --locked \
      -p terraform-provider-immutable --target "$rust_target"
    binary="$target_dir/$rust_target/release/terraform-provider-immutable$exe_suffix"
  else
    cargo build --manifest-path "$repo_root/Cargo.toml" --release --locked \
      -p terraform-provider-immutable
    binary="$target_dir/release/terraform-provider-immutable"
  fi
fi
[[ -f "$binary" ]] || die "$binary does not exist"

mkdir -p "$out"
python3 - "$binary" "$version" "$target" "$exe_suffix" "$out" <<'PY'
"""Zip, sums, manifest and network-mirror documents (python3 only: no zip/shasum/jq needed)."""
import base64
import hashlib
import json
import os
import shutil
import sys
import zipfile

binary, version, platform, exe_suffix, out = sys.argv[1:6]
NAME = "terraform-provider-immutable"
SOURCE_NAMESPACE, SOURCE_TYPE = "immutable-infra", "immutable"
# The short source "immutable-infra/immutable" means a different host to each tool.
HOSTS = ("registry.terraform.io", "registry.opentofu.org")
stem = f"{NAME}_{version}"


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path, document):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


# 1. The zip: one executable named as the registry names it, mode 0755.
member = f"{NAME}_v{version}{exe_suffix}"
zip_name = f"{stem}_{platform}.zip"
zip_path = os.path.join(out, zip_name)
info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible: no build time
info.external_attr = (0o100755 & 0xFFFF) << 16
info.create_system = 3  # Unix, so that unzip honours the mode bits
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f:
    content = f.read()
with zipfile.ZipFile(zip_path + ".tmp", "w") as archive:
    archive.writestr(info, content, compresslevel=6)
os.replace(zip_path + ".tmp", zip_path)

# zh: is the archive's sha256; h1: is Terraform's hash of the unpacked contents (dirhash "h1":
# sha256 over "<sha256 hex>  <name>\n" lines sorted by name, base64).
zip_sha = sha256_file(zip_path)
summary = f"{hashlib.sha256(content).hexdigest()}  {member}\n".encode()
h1 = "h1:" + base64.b64encode(hashlib.sha256(summary).digest()).decode()
zh = "zh:" + zip_sha

# 2. The registry manifest.
manifest_name = f"{stem}_manifest.json"
write_json(os.path.join(out, manifest_name), {"version": 1, "metadata": {"protocol_versions": ["5.0"]}})

# 3. Sums: the registry's per-version file over every zip of this version in OUT (other
# platforms from earlier runs) and its manifest; the plain SHA256SUMS over every version in OUT.
def sums(prefix):
    names = sorted(
        n
        for n in os.listdir(out)
        if n.startswith(prefix) and (n.endswith(".zip") or n.endswith("_manifest.json"))
    )
    return "".join(f"{sha256_file(os.path.join(out, n))}  {n}\n" for n in names)


for sums_name, prefix in ((f"{stem}_SHA256SUMS", stem + "_"), ("SHA256SUMS", NAME + "_")):
    with open(os.path.join(out, sums_name), "w", encoding="utf-8") as f:
        f.write(sums(prefix))

# 4. The network mirror, merged with what earlier runs put there.
for host in HOSTS:
    provider_dir = os.path.join(out, "mirror", host, SOURCE_NAMESPACE, SOURCE_TYPE)
    os.makedirs(provider_dir, exist_ok=True)
    shutil.copyfile(zip_path, os.path.join(provider_dir, zip_name))
    index_path = os.path.join(provider_dir, "index.json")
    index = read_json(index_path, {"versions": {}})
    index.setdefault("versions", {})[version] = {}
    write_json(index_path, index)
    version_path = os.path.join(provider_dir, f"{version}.json")
    archives = read_json(version_path, {"archives": {}})
    # The URL is relative to the document, so the tree can be served under any prefix.
    archives.setdefault("archives", {})[platform] = {"url": zip_name, "hashes": [h1, zh]}
    write_json(version_path, archives)

print(f"{zip_path}\n  {h1}\n  {zh}")
for n in (f"{stem}_SHA256SUMS", "SHA256SUMS", manifest_name):
    print(os.path.join(out, n))
for host in HOSTS:
    print(os.path.join(out, "mirror", host, SOURCE_NAMESPACE, SOURCE_TYPE) + "/")
PY

stem="terraform-provider-immutable_$version"
if [[ -z "$fingerprint" ]]; then
  printf 'not signed (no --gpg-key or IMMUTABLE_GPG_KEY): no %s_SHA256SUMS.sig and no registry/ layout\n' "$stem" >&2
  exit 0
fi

# The detached, binary (not armored) signature the registries expect, made with the primary key
# ("!"), then checked; and the public key that the registry documents publish.
sums="$out/${stem}_SHA256SUMS"
signature="$sums.sig"
sign=(gpg --batch --yes --local-user "$fingerprint!" --detach-sign --output "$signature")
if [[ -n "${IMMUTABLE_GPG_PASSPHRASE:-}" ]]; then
  "${sign[@]}" --pinentry-mode loopback --passphrase-fd 0 "$sums" <<<"$IMMUTABLE_GPG_PASSPHRASE"
else
  "${sign[@]}" "$sums" </dev/null
fi
gpg --batch --verify "$signature" "$sums" 2>/dev/null || die "gpg cannot verify the signature it just made"
public_key="$out/${stem}_signing_key.asc"
gpg --batch --armor --export -- "$fingerprint" >"$public_key"

python3 - "$version" "$out" "$fingerprint" <<'PY'
"""The provider registry protocol (v1) as static files under OUT/registry/."""
import hashlib
import json
import os
import shutil
import sys

version, out, fingerprint = sys.argv[1:4]
NAME = "terraform-provider-immutable"
NAMESPACE, TYPE = "immutable-infra", "immutable"
PROTOCOLS = ["5.0"]
stem = f"{NAME}_{version}"
registry = os.path.join(out, "registry")
provider_dir = os.path.join(registry, "v1", "providers", NAMESPACE, TYPE)
version_dir = os.path.join(provider_dir, version)


def write_json(path, document):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Service discovery: clients that find this host in a source address read this first.
write_json(os.path.join(registry, ".well-known", "terraform.json"), {"providers.v1": "/v1/providers/"})

# The release files, beside the download documents; every platform packaged into OUT so far.
os.makedirs(version_dir, exist_ok=True)
sums_name, signature_name = f"{stem}_SHA256SUMS", f"{stem}_SHA256SUMS.sig"
zips = sorted(n for n in os.listdir(out) if n.startswith(stem + "_") and n.endswith(".zip"))
for name in zips + [sums_name, signature_name]:
    shutil.copyfile(os.path.join(out, name), os.path.join(version_dir, name))

with open(os.path.join(out, f"{stem}_signing_key.asc"), encoding="utf-8") as f:
    armor = f.read()
signing_keys = {
    "gpg_public_keys": [
        {
            "key_id": fingerprint[-16:].upper(),
            "ascii_armor": armor,
            "trust_signature": "",
            "source": NAMESPACE,
            "source_url": None,
        }
    ]
}

platforms = []
for name in zips:
    os_name, arch = name[len(stem) + 1 : -len(".zip")].split("_", 1)
    platforms.append({"os": os_name, "arch": arch})
    # Relative URLs: Terraform resolves them against this document's URL
    # (.../<v>/download/<os>/<arch>), so the tree can be served under any prefix.
    write_json(
        os.path.join(version_dir, "download", os_name, arch),
        {
            "protocols": PROTOCOLS,
            "os": os_name,
            "arch": arch,
            "filename": name,
            "download_url": f"../../{name}",
            "shasums_url": f"../../{sums_name}",
            "shasums_signature_url": f"../../{signature_name}",
            "shasum": sha256_file(os.path.join(out, name)),
            "signing_keys": signing_keys,
        },
    )

versions_path = os.path.join(provider_dir, "versions")
try:
    with open(versions_path, encoding="utf-8") as f:
        versions = json.load(f)
except FileNotFoundError:
    versions = {"versions": []}
others = [v for v in versions.get("versions", []) if v.get("version") != version]
versions["versions"] = sorted(
    others + [{"version": version, "protocols": PROTOCOLS, "platforms": platforms}],
    key=lambda v: v["version"],
)
write_json(versions_path, versions)

print(os.path.join(out, signature_name))
print(os.path.join(out, f"{stem}_signing_key.asc"))
print(f"{registry}/  (signed by {fingerprint})")
PY
