"""Models that ship with the package (the demo model); user-installed models also live in this folder by default."""
