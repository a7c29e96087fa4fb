"""quotes: who said what about whom, pinned to the characters of the source."""
