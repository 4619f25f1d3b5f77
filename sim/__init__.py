"""segue's upstream simulator: Spotify, ReccoBeats and Gemini on loopback (see sim/README.md)."""
