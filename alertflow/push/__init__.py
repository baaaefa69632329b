"""Web Push to background phones: subscriptions, the `push` role and its sender."""
