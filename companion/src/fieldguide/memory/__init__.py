"""Part 8: memory, Hebbian and biologically plausible learning."""
