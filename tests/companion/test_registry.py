import pytest

from fieldguide._registry import Registry


def test_registry_registers_looks_up_and_passes_members_through():
    seen = []
    reg = Registry("gadget", lambda o: isinstance(o, type), "a class", on_register=lambda k, e: seen.append(k))

    @reg.register("Widget")
    class Widget:
        pass

    assert reg.get("widget") is Widget and reg.get("WIDGET") is Widget
    assert reg.get(Widget) is Widget  # members pass through
    assert reg.available() == ["widget"] and seen == ["widget"]
    with pytest.warns(UserWarning, match="gadget 'widget' is registered twice"):
        reg.register("widget")(Widget)
    with pytest.raises(ValueError, match="unknown gadget 'gizmo'; available: widget"):
        reg.get("gizmo")
    with pytest.raises(TypeError, match="gadget must be a name or a class"):
        reg.get(3)
    with pytest.raises(TypeError, match="only a class can be registered"):
        reg.register("x")(object())
    with pytest.raises(ValueError, match="name"):
        reg.register("")
