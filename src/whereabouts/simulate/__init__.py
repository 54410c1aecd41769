"""The force simulator: a town-and-country police force with planted misconduct and its truth.

``simulate(SimConfig(officers=40, days=14), out)`` writes the canonical inputs, vendor-shaped
extras and `truth/` (see force.py); `demo.run_demo(out)` simulates, ingests and reports.
Modules: config (settings), roads and geography (space), people (officers, rota, kit),
movement (true timelines), policing (shifts, CAD, dispatch), misconduct (planting),
sensors (AVL and TETRA sampling), export (files), realism (the summary), demo.
"""

from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.force import Simulation, simulate

__all__ = ["Planting", "SimConfig", "Simulation", "simulate"]
