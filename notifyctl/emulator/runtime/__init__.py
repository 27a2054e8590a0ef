"""The emulator's Lambda runtime (no moto imports here: it is given sinks for logs/metrics)."""
