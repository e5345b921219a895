"""WeChat server API through wechatpy (imported only here: it costs cold-start time)."""
