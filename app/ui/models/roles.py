"""The item-data roles of Sourdine's list models, one enum per model.

Views and delegates read rows only through these roles (never through the records behind
them). ``AccessibleTextRole`` is Qt's own role, so screen readers pick the sentence up through
the item view's accessibility interface without any extra code; the other custom roles start
at ``Qt.UserRole``.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QByteArray, Qt

_USER = int(Qt.ItemDataRole.UserRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)


class ConversationRole(enum.IntEnum):
    """Roles of :class:`app.ui.models.conversations.ConversationListModel`.

    ``Qt.DisplayRole`` is the contact's name; ``Qt.FontRole`` a bold font while unread is shown.
    """

    AccessibleTextRole = _ACCESSIBLE_TEXT  # "Bob, 2 unread, last message: ..., 14:02"
    ContactIdRole = _USER + 1  # int: the contact id, which also names the conversation
    LastMessageRole = _USER + 2  # str: one-line preview of the last message ("" when none)
    TimeRole = _USER + 3  # str: localized short time of the last message ("" when none)
    TimestampRole = _USER + 4  # int | None: that time in ms since the epoch (sorting, tests)
    UnreadRole = _USER + 5  # int: the count the attention service shows (0 off duty)
    BoldRole = _USER + 6  # bool: the row is bold (some unread shown)
    VerifiedRole = _USER + 7  # bool: the user compared safety numbers
    KeyChangePendingRole = _USER + 8  # bool: a new key awaits the user's decision
    LastOutgoingRole = _USER + 9  # bool: the last message is ours (preview says "You: ...")


class TranscriptRole(enum.IntEnum):
    """Roles of :class:`app.ui.models.transcript.TranscriptModel`.

    ``Qt.DisplayRole`` is the text to show in the bubble (the body, or a translated
    explanation for an undecryptable message); ``Qt.ToolTipRole`` the translated state.
    """

    AccessibleTextRole = _ACCESSIBLE_TEXT  # "You, 14:02: hello. Delivered."
    BodyRole = _USER + 1  # str: the message text as stored
    OutgoingRole = _USER + 2  # bool: we wrote it
    TimeRole = _USER + 3  # str: localized short time ("14:02")
    TimestampRole = _USER + 4  # int: ms since the epoch on our clock (sent or received)
    DateRole = _USER + 5  # str: the localized day ("Today", "Yesterday", "Monday 3 March 2025")
    DateSeparatorRole = _USER + 6  # bool: first message of its day in the loaded range
    StateRole = _USER + 7  # str: MessageState value (queued/sent/delivered/read/failed/...)
    StateTextRole = _USER + 8  # str: the translated state ("Delivered")
    StateSymbolRole = _USER + 9  # str: a short symbol for the state ("✓✓"), "" for incoming
    ReasonRole = _USER + 10  # str | None: why it failed / could not be read
    MessageIdRole = _USER + 11  # bytes: the 16-byte message id
    SeqRole = _USER + 12  # int: local order (the paging cursor)
    FailedRole = _USER + 13  # bool: ours and not sent: the view offers a retry


class SearchRole(enum.IntEnum):
    """Roles of :class:`app.ui.models.search.SearchResultsModel`.

    ``Qt.DisplayRole`` is the contact's name.
    """

    AccessibleTextRole = _ACCESSIBLE_TEXT  # "Bob, 14:02: ... snippet ..."
    ContactNameRole = _USER + 1  # str
    SnippetRole = _USER + 2  # str: one line of the message around the first match
    TimeRole = _USER + 3  # str: localized short time
    TimestampRole = _USER + 4  # int: ms since the epoch
    ConversationIdRole = _USER + 5  # int
    SeqRole = _USER + 6  # int: the message to scroll to
    OutgoingRole = _USER + 7  # bool
    MessageIdRole = _USER + 8  # bytes


class ContactRole(enum.IntEnum):
    """Roles of :class:`app.ui.models.contacts.ContactListModel`.

    ``Qt.DisplayRole`` is the contact's name.
    """

    AccessibleTextRole = _ACCESSIBLE_TEXT  # "Bob, verified" / "Bob, safety number changed"
    ContactIdRole = _USER + 1  # int
    VerifiedRole = _USER + 2  # bool
    KeyChangePendingRole = _USER + 3  # bool
    RelayUrlRole = _USER + 4  # str | None: their home relay, None until known
    IdentityKeyRole = _USER + 5  # bytes


def role_names(roles: type[enum.IntEnum]) -> dict[int, QByteArray]:
    """``roleNames()`` for a model: Qt's defaults plus ``roles`` in camelCase (QML-style)."""
    names = {
        int(Qt.ItemDataRole.DisplayRole): QByteArray(b"display"),
        int(Qt.ItemDataRole.ToolTipRole): QByteArray(b"toolTip"),
        int(Qt.ItemDataRole.FontRole): QByteArray(b"font"),
    }
    for role in roles:
        base = role.name.removesuffix("Role")
        names[int(role)] = QByteArray((base[0].lower() + base[1:]).encode("ascii"))
    return names
