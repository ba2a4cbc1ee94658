"""Conversations as the user sees them: list, pages of history, read markers, search."""

from __future__ import annotations

from dataclasses import dataclass

from app.adapters.store import ClientStore, ContactRecord, MessageRecord
from app.core.contacts import ContactBook

DEFAULT_PAGE = 50


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One row of the conversation list (the UI decides whether to show ``unread``)."""

    contact: ContactRecord
    last_message: MessageRecord | None
    unread: int  # incoming messages after the read marker


@dataclass(frozen=True, slots=True)
class SearchHit:
    contact: ContactRecord
    message: MessageRecord


class Conversations:
    """Read-side queries over the store, joined with the in-memory contacts."""

    def __init__(self, store: ClientStore, contacts: ContactBook) -> None:
        self._store = store
        self._contacts = contacts

    async def summaries(self, *, include_empty: bool = False) -> list[ConversationSummary]:
        """Conversations, most recent first (those without messages only if asked)."""
        rows = await self._store.conversations()
        return [
            ConversationSummary(self._contacts.get(r.contact_id), r.last_message, r.unread)
            for r in rows
            if include_empty or r.last_message is not None
        ]

    async def history(
        self, contact: ContactRecord, *, before: int | None = None, limit: int = DEFAULT_PAGE
    ) -> list[MessageRecord]:
        """The ``limit`` newest messages with ``seq < before``, oldest first."""
        return await self._store.history(contact.contact_id, before=before, limit=limit)

    async def latest_seq(self, contact: ContactRecord) -> int:
        page = await self._store.history(contact.contact_id, limit=1)
        return page[-1].seq if page else 0

    async def newly_read(self, contact: ContactRecord, through: int) -> list[bytes]:
        """Ids of the received messages that moving the read marker to ``through`` reads."""
        return await self._store.newly_read(contact.contact_id, through)

    async def search(
        self, text: str, *, contact: ContactRecord | None = None, limit: int = DEFAULT_PAGE
    ) -> list[SearchHit]:
        """Messages with every word of ``text``, newest first.

        Raises:
            SearchQueryError: ``text`` has no word.
        """
        found = await self._store.search(
            text, limit=limit, conversation_id=None if contact is None else contact.contact_id
        )
        return [SearchHit(self._contacts.get(m.conversation_id), m) for m in found]
