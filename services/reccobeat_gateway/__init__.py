"""The ReccoBeats gateway: every ReccoBeats call in the mesh goes through here."""
