"""glare-label: the click-labelling tool for pupil positions (and eye corners)."""
