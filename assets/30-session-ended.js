// A callback answered 401 means this tab's session has ended (signed out in another tab, password
// changed, user disabled by an admin). Go to the sign-in page, and back here after it, instead of
// leaving Dash to fail on the refused answer ("body stream already read").
(function () {
  var nativeFetch = window.fetch.bind(window);
  var leaving = false;
  window.fetch = function (input, init) {
    return nativeFetch(input, init).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status !== 401 || url.indexOf("/_dash-") === -1) {
        return response;
      }
      if (!leaving) {
        leaving = true;
        var here = window.location.pathname + window.location.search;
        window.location.assign("/login?next=" + encodeURIComponent(here));
      }
      return new Promise(function () {}); // never settles: nothing to render while the page goes
    });
  };
})();
