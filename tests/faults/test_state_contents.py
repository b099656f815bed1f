"""What reaches the state, as README ("What reaches state") says: the Sentry token set with
`pulumi config set --secret` is in the default provider's inputs, encrypted, and nowhere else."""

from __future__ import annotations

import json

import pytest

from tests.faults.stack import STACK, TOKEN, FaultStack

pytestmark = pytest.mark.e2e

# How Pulumi's state marks a secret value: {SIG_KEY: SECRET_SIG, "ciphertext": ...}.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def test_the_secret_token_is_only_in_the_default_providers_inputs_and_only_encrypted(stack: FaultStack) -> None:
    state = stack.pulumi.export_state(STACK)
    text = json.dumps(state)
    assert TOKEN not in text

    providers = [r for r in state["deployment"]["resources"] if r["type"] == "pulumi:providers:pulumi-python"]
    assert len(providers) == 1
    token = providers[0]["inputs"]["sentry-dsn-sync:sentryToken"]
    assert token[SIG_KEY] == SECRET_SIG and set(token) == {SIG_KEY, "ciphertext"}, "a Pulumi secret, encrypted"
    elsewhere = [r["urn"] for r in state["deployment"]["resources"] if r is not providers[0] and "sentryToken" in json.dumps(r)]
    assert elsewhere == []

    shown = stack.run("stack", "export", "--show-secrets", "--stack", STACK)
    decrypted = json.loads(shown.stdout)
    provider = next(r for r in decrypted["deployment"]["resources"] if r["type"] == "pulumi:providers:pulumi-python")
    assert provider["inputs"]["sentry-dsn-sync:sentryToken"]["plaintext"] == json.dumps(TOKEN)
    # That output decrypts on purpose; keep the leak scan to what the tool itself produces.
    stack.outputs.remove(shown.stdout + shown.stderr)
