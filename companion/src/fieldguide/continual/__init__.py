"""Part 7: loss of plasticity and continual learning."""
