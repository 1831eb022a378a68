"""GRPO refinement of restorers with the fidelity-softmax policy proxy and severity rewards."""
