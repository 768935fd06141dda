terraform {
  required_providers {
    immutable = {
      # Full address, so Terraform and OpenTofu resolve the same provider.
      source  = "registry.terraform.io/immutable-infra/immutable"
      version = "~> 0.1"
    }
  }
}

# Credentials come from the standard AWS chain (environment, shared files, SSO, roles).
provider "immutable" {
  region = "us-east-1"
}
