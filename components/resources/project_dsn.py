"""Where the provider lived before the package was named `sentry_dsn_sync` (release 0.1).

Each resource's state holds its provider pickled by module path, and
`pulumi destroy` and `pulumi refresh` unpickle it from the state without
running the program. The provider process runs in the program's directory,
which puts `components/` (as a namespace package) on its path, so stacks
created by 0.1 keep working. See README, "Upgrading from 0.1".
"""

from sentry_dsn_sync.resources.project_dsn import ProjectDsnProvider

__all__ = ["ProjectDsnProvider"]
