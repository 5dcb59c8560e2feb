"""Several links that live and die together (one perf event per CPU, say)."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from pybpf.bpf.link import Link


class LinkGroup:
    """Owns a list of :class:`~pybpf.bpf.link.Link`; ``close()`` detaches them all."""

    def __init__(self, links: Sequence[Link], label: str) -> None:
        self.links = list(links)
        self.label = label

    @property
    def closed(self) -> bool:
        """True once every member is detached."""
        return all(link.closed for link in self.links)

    def close(self) -> None:
        """Detach every member (in reverse order of attachment)."""
        for link in reversed(self.links):
            link.close()

    def __enter__(self) -> LinkGroup:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.links)

    def __repr__(self) -> str:
        return f"<LinkGroup {self.label} x{len(self.links)}>"


__all__ = ["LinkGroup"]
