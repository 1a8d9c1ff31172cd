"""The envctl command line."""
