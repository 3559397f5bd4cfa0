"""The Slack edge's own plumbing: Web API clients (`client`) and the outbox every post goes
through (`outbox`). Both use `slack_sdk`, so no feature or kernel module may import them."""
