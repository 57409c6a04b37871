"""ExportFunction and ErrorNotificationFunction: subscribed to the warehouse's SNS topics."""
