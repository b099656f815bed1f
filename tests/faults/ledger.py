"""The fault suite's count: every fault injected, survived, and what it cost.

A test calls :meth:`Ledger.injected` when it puts a fault in place and
:meth:`Ledger.survived` once the fault is removed, a re-run converged and the
invariants held. A test that fails half-way leaves its fault injected but not
survived, so the summary line shows it even before pytest's own report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LEDGER", "Ledger"]


@dataclass
class Ledger:
    injected_faults: list[str] = field(default_factory=list)
    survived_faults: list[str] = field(default_factory=list)
    secrets_lost: int = 0
    leaks: int = 0
    # What each fault class taught: class -> the faults of it that were injected.
    classes: dict[str, list[str]] = field(default_factory=dict)

    def injected(self, fault_class: str, name: str) -> str:
        self.injected_faults.append(name)
        self.classes.setdefault(fault_class, []).append(name)
        return name

    def survived(self, name: str) -> None:
        assert name in self.injected_faults, f"{name} was never injected"
        self.survived_faults.append(name)

    @property
    def ran(self) -> bool:
        return bool(self.injected_faults)

    def summary(self) -> str:
        return (
            f"faults: {len(self.injected_faults)} injected, {len(self.survived_faults)} survived, "
            f"{self.secrets_lost} secrets lost, {self.leaks} leaks"
        )

    def by_class(self) -> list[str]:
        survived = set(self.survived_faults)
        return [
            f"  {fault_class}: {sum(name in survived for name in names)}/{len(names)} survived"
            for fault_class, names in self.classes.items()
        ]


LEDGER = Ledger()
