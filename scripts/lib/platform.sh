# shellcheck shell=bash
# Sourced by scripts/install.sh and scripts/package.sh.
#
# Prints this machine's platform as Terraform names it (GOOS_GOARCH, e.g. linux_amd64), or says
# on stderr what is unsupported and returns 1.
terraform_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os="linux" ;;
    Darwin) os="darwin" ;;
    FreeBSD) os="freebsd" ;;
    *) printf 'unsupported operating system %s\n' "$(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch="amd64" ;;
    aarch64 | arm64) arch="arm64" ;;
    *) printf 'unsupported CPU architecture %s\n' "$(uname -m)" >&2; return 1 ;;
  esac
  printf '%s_%s\n' "$os" "$arch"
}
