"""Amazon States Language generation.

``builder`` makes whole state machines; ``fragments`` the per-resource steps.
"""
