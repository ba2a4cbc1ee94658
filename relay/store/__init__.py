"""Relay storage back ends behind one interface (``relay.store.base.RelayStore``)."""
