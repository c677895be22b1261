"""glare: a real-time webcam effect that redraws the irises into a side-eye glare or an anxious gaze.

The frame's journey, one module per stage:
capture -> faces -> eyes -> pupils -> gaze -> render -> sinks, wired by ``glare.engine``.
"""

__version__ = "0.1.0"
