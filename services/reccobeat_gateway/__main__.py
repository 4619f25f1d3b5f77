from services.common.server import main
from services.reccobeat_gateway.config import from_env
from services.reccobeat_gateway.server import build

main("reccobeat_gateway", from_env, build)
