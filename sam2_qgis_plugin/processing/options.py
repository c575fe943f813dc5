"""Processing parameters made from the engine's description of a job's options (job_defaults.json), and their
values read back under the engine's names: the algorithms define no option, default or choice of their own.

An option ``tile_size`` is the parameter ``TILE_SIZE``: a choice list for options with choices, a number
(integer or decimal, like the default) otherwise; an option whose default is decided later (``image_size``)
is optional and left out of the request when empty.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .. import job_defaults


def parameter_name(option: str) -> str:
    return option.upper()


def choice_labels(option: str, job: str) -> list[str]:
    """What the analyst reads for each choice (the mode's words, or the choices themselves)."""
    choices = job_defaults.choices(option, job)
    labels = job_defaults.JOBS[job][option].get("labels", {})
    return [labels.get(choice, choice) for choice in choices]


def option_parameter(option: str, job: str, title: str, advanced: bool = False) -> QgsProcessingParameterDefinition:
    """The Processing parameter for ``job``'s ``option``, with the engine's default, choices and help."""
    described = job_defaults.JOBS[job][option]
    default = described["default"]
    name = parameter_name(option)
    if "choices" in described:
        choices = job_defaults.choices(option, job)
        parameter: QgsProcessingParameterDefinition = QgsProcessingParameterEnum(
            name, title, choice_labels(option, job), defaultValue=choices.index(default)
        )
    elif isinstance(default, str):
        parameter = QgsProcessingParameterString(name, title, defaultValue=default)
    else:
        number = QgsProcessingParameterNumber
        kind = number.Double if isinstance(default, float) else number.Integer
        parameter = number(name, title, kind, defaultValue=default, optional=default is None, minValue=0)
    if described.get("help") and hasattr(parameter, "setHelp"):
        parameter.setHelp(described["help"])
    if advanced:
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
    return parameter


def option_value(
    algorithm: QgsProcessingAlgorithm, parameters: dict[str, Any], context: Any, option: str, job: str
) -> Any:
    """The value the analyst gave ``option``'s parameter, as the engine names it (None: left empty)."""
    name = parameter_name(option)
    described = job_defaults.JOBS[job][option]
    if "choices" in described:
        return job_defaults.choices(option, job)[algorithm.parameterAsEnum(parameters, name, context)]
    if parameters.get(name) in (None, "") and described["default"] is None:
        return None
    default = described["default"]
    if isinstance(default, str):
        return algorithm.parameterAsString(parameters, name, context)
    if isinstance(default, float):
        return algorithm.parameterAsDouble(parameters, name, context)
    return algorithm.parameterAsInt(parameters, name, context)


__all__ = ["option_parameter", "option_value", "parameter_name"]
