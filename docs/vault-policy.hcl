# The least a Vault policy needs for sentry-dsn-sync with the defaults
# (KV v2 mount `secret`, pathTemplate `sentry/{organization}/{project}`).
# Change `secret` and `sentry/` to your mount and template.

# Find out whether the mount is KV v1 or v2 before the first write.
path "sys/internal/ui/mounts/secret" {
  capabilities = ["read"]
}

# Read, merge and check-and-set write the tool's fields; soft delete (onDelete: delete).
path "secret/data/sentry/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
}

# Custom metadata (managed-by, stack), read-modify-patch; `delete` only for onDelete: destroy.
path "secret/metadata/sentry/*" {
  capabilities = ["read", "patch", "delete"]
}
