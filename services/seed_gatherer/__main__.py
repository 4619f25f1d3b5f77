from services.common.server import main
from services.seed_gatherer.config import from_env
from services.seed_gatherer.server import build

main("seed_gatherer", from_env, build)
