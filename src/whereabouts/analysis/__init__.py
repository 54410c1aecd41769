"""analysis layer: officers' occasions, policing reasons, context, stops, baseline, screening.

`investigate(ws, subjects, start, end, params=..., out_dir=...)` writes a case's output
folder; `screen(ws, officers, start, end)` ranks every pair of a set of officers.
"""

from whereabouts.analysis.investigate import Investigation, investigate, screen
from whereabouts.analysis.params import AnalysisParams

__all__ = ["AnalysisParams", "Investigation", "investigate", "screen"]
