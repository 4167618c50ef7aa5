"""Services of the community app: discussions and pull requests, and where a change lands."""
