"""The control plane under /_emulator/, a namespace Daraja's paths can never collide with."""
