"""The contact book as a list: names in alphabetical order, verified and key-change flags."""

from __future__ import annotations

import bisect
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from app.adapters.store import ContactRecord
from app.ui.bridge import Bridge
from app.ui.models.roles import ContactRole, role_names

AnyIndex = QModelIndex | QPersistentModelIndex


def _sort_key(contact: ContactRecord) -> tuple[str, int]:
    return contact.display_name.casefold(), contact.contact_id


class ContactListModel(QAbstractListModel):
    """Every contact of the profile, sorted by name (case-blind).

    Filled from ``bridge.contacts()`` on construction (it is in memory: no await needed) and
    kept current by ``contactAdded`` (insert), ``contactUpdated``/``contactKeyChanged``
    (one-row ``dataChanged``; a rename moves the row to its new place).
    """

    def __init__(self, bridge: Bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._contacts: list[ContactRecord] = sorted(bridge.contacts(), key=_sort_key)
        self._keys: list[tuple[str, int]] = [_sort_key(c) for c in self._contacts]  # sorted
        bridge.contactAdded.connect(self._on_added)
        bridge.contactUpdated.connect(self._on_updated)
        bridge.contactKeyChanged.connect(self._on_updated)

    def reload(self) -> None:
        """Read every contact again (a model reset)."""
        self.beginResetModel()
        self._contacts = sorted(self._bridge.contacts(), key=_sort_key)
        self._keys = [_sort_key(c) for c in self._contacts]
        self.endResetModel()

    def row_of(self, contact_id: int) -> int | None:
        for row, contact in enumerate(self._contacts):
            if contact.contact_id == contact_id:
                return row
        return None

    def contact_at(self, row: int) -> ContactRecord:
        return self._contacts[row]

    # --- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._contacts)

    def roleNames(self) -> dict[int, QByteArray]:
        return role_names(ContactRole)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._contacts):
            return None
        contact = self._contacts[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return contact.display_name
            case ContactRole.ContactIdRole:
                return contact.contact_id
            case ContactRole.VerifiedRole:
                return contact.verified
            case ContactRole.KeyChangePendingRole:
                return contact.pending_identity_key is not None
            case ContactRole.RelayUrlRole:
                return contact.relay_url
            case ContactRole.IdentityKeyRole:
                return contact.identity_key
            case ContactRole.AccessibleTextRole:
                if contact.pending_identity_key is not None:
                    template = self.tr("%1, safety number changed")
                elif contact.verified:
                    template = self.tr("%1, verified")
                else:
                    template = self.tr("%1, not verified")
                return template.replace("%1", contact.display_name)
        return None

    # --- bridge signals -----------------------------------------------------------------------

    def _on_added(self, contact: ContactRecord) -> None:
        if self.row_of(contact.contact_id) is not None:
            self._on_updated(contact)
            return
        key = _sort_key(contact)
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._contacts.insert(row, contact)
        self._keys.insert(row, key)
        self.endInsertRows()

    def _on_updated(self, contact: ContactRecord) -> None:
        row = self.row_of(contact.contact_id)
        if row is None:
            self._on_added(contact)
            return
        key = _sort_key(contact)
        others = self._keys[:row] + self._keys[row + 1:]
        target = bisect.bisect_left(others, key)  # its place once the others are in order
        if target != row:
            # Qt's destination is the row *before which* it goes, counted before the move.
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(),
                               target + 1 if target > row else target)
            self._contacts.insert(target, self._contacts.pop(row))
            self._keys.insert(target, self._keys.pop(row))
            self.endMoveRows()
        self._contacts[target] = contact
        self._keys[target] = key
        index = self.index(target, 0)
        self.dataChanged.emit(index, index)
