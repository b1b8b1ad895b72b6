"""Looking inside an embedding space: similarity, neighbours, 2-D maps, geometry.

``inspect(store, out)`` runs all of it on an embedding store; the pieces work on plain
float32 arrays ``(n, dim)``.
"""

from reprlearn.analysis.confusion import confusion_report, most_confused_pairs, per_class_accuracy
from reprlearn.analysis.geometry import Geometry, diagnose
from reprlearn.analysis.inspect import InspectResult, inspect
from reprlearn.analysis.neighbors import Neighbors, k_occurrence, nearest_neighbors, search
from reprlearn.analysis.projection import MissingDependencyError, Projection, project_2d
from reprlearn.analysis.similarity import cosine_similarity_matrix, stratified_sample

__all__ = [
    "Geometry",
    "InspectResult",
    "MissingDependencyError",
    "Neighbors",
    "Projection",
    "confusion_report",
    "cosine_similarity_matrix",
    "diagnose",
    "inspect",
    "k_occurrence",
    "most_confused_pairs",
    "nearest_neighbors",
    "per_class_accuracy",
    "project_2d",
    "search",
    "stratified_sample",
]
