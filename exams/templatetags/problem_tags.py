from django import template

from exams.models import ProblemReport

register = template.Library()


@register.simple_tag
def problem_kinds() -> list[tuple[str, str]]:
    """The kinds a problem report can take, as (value, label) for the report form."""
    return ProblemReport.Kind.choices
