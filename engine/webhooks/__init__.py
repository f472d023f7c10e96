"""TradingView alert webhooks: a user's hook (URL, hashed secret), the template that maps an alert
to a trade block, and the audit log of every call. Public surface: engine.webhooks.api."""
