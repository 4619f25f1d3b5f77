from services.common.server import main
from services.orchestrator.config import from_env
from services.orchestrator.server import build

main("orchestrator", from_env, build)
