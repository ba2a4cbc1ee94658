"""The client's encrypted database (SQLCipher): schema, migrations, one thread, async API."""

from app.adapters.store.database import ClientStore
from app.adapters.store.errors import (
    DatabaseTooNew,
    NoDatabase,
    ProfileInUse,
    SearchQueryError,
    StoreClosed,
    StoreError,
    StoreFailure,
    WrongDatabaseKey,
)
from app.adapters.store.records import (
    AccountRecord,
    Applied,
    Changes,
    ContactRecord,
    ConversationRow,
    MessageRecord,
    MessageState,
    NewMessage,
    NewOutboxItem,
    OutboxRecord,
    PayloadKind,
    RejectedEnvelope,
    SessionRecord,
    StateChange,
)
from app.adapters.store.schema import LATEST_VERSION

__all__ = [
    "LATEST_VERSION", "AccountRecord", "Applied", "Changes", "ClientStore", "ContactRecord",
    "ConversationRow", "DatabaseTooNew", "MessageRecord", "MessageState", "NewMessage",
    "NewOutboxItem", "NoDatabase", "OutboxRecord", "PayloadKind", "ProfileInUse",
    "RejectedEnvelope", "SearchQueryError", "SessionRecord", "StateChange", "StoreClosed",
    "StoreError", "StoreFailure", "WrongDatabaseKey",
]
