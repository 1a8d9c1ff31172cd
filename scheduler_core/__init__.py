"""envctl core: config, state machine generation and runtime for switching environments."""

__version__ = "0.1.0"
