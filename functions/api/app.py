"""The API function: a Chalice app made of one blueprint per area (routes only; see chalicelib/)."""
from chalice import Chalice

from chalicelib import deferred, middleware

# The route modules register their routes now; the use cases and request models they name load on first use
# (chalicelib/deferred.py): a cold start pays for what its first request needs.
with deferred.registering():
    from chalicelib.routes import (admin, checkins, console, console_pages, events, grid, identity, links, points,
                                   push, requests, rollups, store, system, wishes)
    from chalicelib.routes import posts
    from chalicelib.routes import units
    from chalicelib.routes import party
    from chalicelib.routes import service_cards
    from chalicelib.routes import co_projects
    from chalicelib.routes import commendations
    from chalicelib.routes import ballots
    from chalicelib.routes import project_rounds
    from chalicelib.routes import proxy  # 代办: managed residents, proxy actions, the proxy log
    from chalicelib.routes import certificates  # 志愿服务记录证明
    from chalicelib.routes import corrections  # 志愿服务记录更正
from tongxin.config import load_settings

# Fail closed at cold start: a missing stage or a weak secret stops the function here, before any request.
load_settings()

app = Chalice(app_name="tongxin-api")
app.api.binary_types.append("application/pdf")  # 志愿服务记录证明's PDF goes out as binary
middleware.install(app)

for blueprint in (system.bp, identity.bp, admin.bp, wishes.bp, events.bp, checkins.bp, grid.bp,
                  points.bp, store.bp, push.bp, requests.bp, rollups.bp, links.bp, console.bp, console_pages.bp,
                  posts.bp, units.bp, party.bp):
    app.register_blueprint(blueprint)
app.register_blueprint(co_projects.bp)  # 共建项目 and 群众评单
app.register_blueprint(commendations.bp)  # 微星光 表彰
app.register_blueprint(ballots.bp)  # 微实事 票选 and results
app.register_blueprint(project_rounds.bp)  # 微实事 rounds, proposals, review, delivery
app.register_blueprint(service_cards.bp)  # 双报到 服务卡
app.register_blueprint(proxy.bp)  # 代办: managed residents, proxy actions, the proxy log
app.register_blueprint(certificates.bp)  # 志愿服务记录证明
app.register_blueprint(corrections.bp)  # 志愿服务记录更正
