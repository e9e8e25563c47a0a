"""A local stand-in for the Respeecher Voice Marketplace API: a store plus a thin HTTP layer.

`voicefs emulator` serves it on loopback. Tests, benchmarks and the demo run against it.
"""
