"""Decisions of the generated state machines that whole-machine tests do not pin down."""
