"""A loopback Stripe API emulator with deterministic generated data, for tests, the demo and benchmarks.

Start it with ``python -m emulators.stripe --port 0 --seed 42 --customers 200``; see README.md here.
"""
