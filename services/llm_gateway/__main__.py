from services.common.server import main
from services.llm_gateway.config import from_env
from services.llm_gateway.server import build

main("llm_gateway", from_env, build)
