"""An offline, in-memory emulator of the Pixelbin asset-management API."""

from .app import create_app
from .core.emulator import Emulator
from .server import LiveServer
from .settings import Settings

__all__ = ["Emulator", "LiveServer", "Settings", "create_app"]
__version__ = "0.1.0"
