"""ProviderContext: the one owner of a provider process's caches, and the connections it keeps apart."""

from __future__ import annotations

import importlib
import pkgutil
import threading
import weakref
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.resources.context import ProviderContext
from tests.sentry.fakes import TOKEN
from tests.sentry.test_catalog import FakeOrganization

OTHER_TOKEN = "sntryu_OTHER-TOKEN-must-never-show-9876543210"
ENV = {"SENTRY_AUTH_TOKEN": TOKEN, "EU_SENTRY_TOKEN": OTHER_TOKEN, "VAULT_ADDR": "http://127.0.0.1:1"}


def connection(organization: str = "acme", **values: Any) -> dict[str, Any]:
    return {"organization": organization, "sentryUrl": "https://sentry.example.com/", **values}


@pytest.fixture
def context() -> ProviderContext:
    context = ProviderContext(env=ENV)
    context.configure({"sentry-dsn-sync:organization": "acme"})
    return context


def test_one_catalog_per_sentry_url_organization_and_token(context: ProviderContext) -> None:
    transport = httpx.MockTransport(FakeOrganization(2))

    def catalog(**values: Any) -> object:
        return context.catalog(stack="s", connection=connection(**values), transport=transport)

    first = catalog()
    assert catalog(sentryUrl="https://sentry.example.com") is first, "the same API root, spelt otherwise"
    assert catalog(organization="other") is not first
    assert catalog(sentryUrl="https://de.sentry.io/") is not first
    assert catalog(sentryTokenEnv="EU_SENTRY_TOKEN") is not first
    context.close()
    assert catalog() is not first


def test_many_resources_reuse_one_fetch_and_the_token_never_shows(context: ProviderContext) -> None:
    fake = FakeOrganization(10)
    transport = httpx.MockTransport(fake)
    for i in range(10):
        catalog = context.catalog(stack="s", connection=connection(), transport=transport)
        assert len(catalog.active_keys(f"p{i:03d}")) == 2
    assert sum(fake.calls.values()) == 2
    assert TOKEN not in repr(catalog)


def test_parallel_checks_build_one_catalog(context: ProviderContext) -> None:
    transport = httpx.MockTransport(FakeOrganization(1))
    got: list[object] = []
    threads = [
        threading.Thread(
            target=lambda: got.append(context.catalog(stack="s", connection=connection(), transport=transport))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(got) == 8 and all(catalog is got[0] for catalog in got)


def test_a_connection_is_parsed_on_its_own_with_its_token_read_from_the_named_variable(
    context: ProviderContext,
) -> None:
    eu = context.settings(stack="s", connection=connection("eu-org", sentryTokenEnv="EU_SENTRY_TOKEN"))
    stack = context.settings(stack="s")

    assert (eu.organization, eu.sentry_token.reveal()) == ("eu-org", OTHER_TOKEN)
    assert eu.sentry_token_source == "environment variable EU_SENTRY_TOKEN"
    assert (stack.organization, stack.sentry_token.reveal()) == ("acme", TOKEN)


def test_configure_drops_what_the_old_config_built(context: ProviderContext) -> None:
    before = context.settings(stack="s")
    context.configure({"sentry-dsn-sync:organization": "beta"})

    assert (before.organization, context.settings(stack="s").organization) == ("acme", "beta")


@pytest.mark.parametrize("package", ["sentry_dsn_sync.sentry", "sentry_dsn_sync.vault"])
def test_the_sentry_and_vault_libraries_keep_no_process_state_of_their_own(package: str) -> None:
    # Caches, registries and locks live in ProviderContext; constants are UPPER_CASE.
    stateful = (dict, list, set, weakref.WeakKeyDictionary, weakref.WeakValueDictionary, type(threading.Lock()))
    root = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("__") or name.lstrip("_").isupper():
                continue
            cached_here = hasattr(value, "cache_info") and getattr(value, "__module__", None) == info.name
            if isinstance(value, stateful) or cached_here:
                found.append(f"{info.name}.{name}")
    assert found == []
