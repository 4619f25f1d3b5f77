"""The seed gatherer: the user's Spotify context and the seed tracks for a mood."""
