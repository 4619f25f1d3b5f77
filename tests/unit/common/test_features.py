"""AudioFeature on the wire, names as text only at the edges: the one conversion."""

from __future__ import annotations

from segue.v1 import common_pb2

from services.common.features import (
    ENERGY,
    FEATURE_NAMES,
    FEATURE_RANGES,
    feature_name,
    feature_named,
    targets_as_params,
)
from services.llm_gateway.schemas import MoodAnswer


def test_every_feature_is_named_as_its_audio_features_field_and_back() -> None:
    features = [v for v in common_pb2.AudioFeature.values() if v != common_pb2.AUDIO_FEATURE_UNSPECIFIED]
    assert sorted(features) == sorted(FEATURE_RANGES)
    for feature in features:
        name = feature_name(feature)
        assert common_pb2.AudioFeatures.DESCRIPTOR.fields_by_name[name].number == feature
        assert feature_named(name) == feature and feature_named(f" {name.upper()} ") == feature
    assert feature_name(common_pb2.AUDIO_FEATURE_UNSPECIFIED) == "" and feature_named("key") is None


def test_the_llm_schema_and_the_upstream_query_use_the_names() -> None:
    schema = MoodAnswer.model_json_schema()
    assert list(FEATURE_NAMES) == list(schema["$defs"]["FeatureTargetsAnswer"]["properties"])
    target = common_pb2.FeatureTarget(feature=ENERGY, target=0.7)
    unknown = common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_UNSPECIFIED, target=0.1)
    assert targets_as_params([target, unknown]) == {"energy": 0.7}
